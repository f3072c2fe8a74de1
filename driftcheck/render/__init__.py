"""The renderers: each format is a small callable over the report document (model/document.py),
chosen by name in formats.py."""
