"""Engine errors: each carries a message a person can read, shown as-is in the web app."""


class EngineError(Exception):
    """Base class; ``str(error)`` is safe to show to the user."""

    default_message = "The face engine could not process this file."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)


class CorruptImage(EngineError):
    default_message = "This image file is damaged or is not an image we can read."


class ImageTooLarge(EngineError):
    default_message = "This image is too large to process."


class NoFaceFound(EngineError):
    default_message = "No face was found in this picture."


class FaceTooSmall(EngineError):
    default_message = "The face in this picture is too small to swap; use a closer or larger picture."


class CorruptVideo(EngineError):
    default_message = "This video file is damaged or is not a video we can read."


class NoVideoStream(EngineError):
    default_message = "This file has no video track."


class UnsupportedCodec(EngineError):
    default_message = "This video uses a format we cannot decode."


class EmptyVideo(EngineError):
    default_message = "This video has no frames."


class GenerationFailed(EngineError):
    default_message = "The avatar generator could not make a usable face; please try again."


class ModelUnavailable(EngineError):
    default_message = "This engine's model files are not installed."


class Cancelled(EngineError):
    default_message = "The job was cancelled."
