"""The library: practice documents, their files and versions, publishing and reading them back."""
