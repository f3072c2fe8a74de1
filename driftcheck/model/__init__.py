"""The typed records every stage passes on, and the words they share (vocab)."""
