"""Search spaces, minibatches, scorers and the scoring engine.

Importing this package does not import torch: only the network builders and the
scorers that run a network do, and they are imported lazily by the engine.
"""
