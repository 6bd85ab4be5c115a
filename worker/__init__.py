"""SafeFace's face engine: pixels in, pixels out. Imports nothing from Django.

Capabilities (each behind a backend registry, see ``worker.registry``):
analyse faces, swap a face in an image, swap a face through a video, generate avatar faces.
Images are RGB ``uint8`` numpy arrays of shape (H, W, 3) everywhere in this package.
"""
