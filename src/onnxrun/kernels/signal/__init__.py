"""Signal-processing kernels: DFT, STFT, window functions, MelWeightMatrix."""
