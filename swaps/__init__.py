"""Swaps: target uploads, face choice, swap jobs and their outputs."""
