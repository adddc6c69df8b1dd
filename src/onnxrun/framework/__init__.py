"""Stages 3-7: opset resolution, function expansion, partitioning, planning and execution."""
