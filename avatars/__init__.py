"""Avatars: the builder, generation jobs, candidates and saved avatars."""
