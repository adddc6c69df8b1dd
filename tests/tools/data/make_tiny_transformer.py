"""Regenerate tiny_transformer.onnx (needs torch and onnxscript; the tests do not):

    python tests/tools/data/make_tiny_transformer.py

A 2-layer transformer encoder (d_model 32, 4 heads, feed-forward 64) over a token embedding,
batch and sequence length dynamic, exported by torch.onnx.
"""

import os

import torch


class TinyEncoder(torch.nn.Module):
    def __init__(self, vocab=50, d_model=32, heads=4, ff=64, layers=2):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0.0,
                                                 batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, 8)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)))


def main():
    torch.manual_seed(0)
    model = TinyEncoder().eval()
    tokens = torch.randint(0, 50, (2, 7))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_transformer.onnx")
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    torch.onnx.export(model, (tokens,), path, input_names=["tokens"], output_names=["logits"],
                      dynamic_shapes={"tokens": {0: batch, 1: seq}}, opset_version=18,
                      external_data=False)
    print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
