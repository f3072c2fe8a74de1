"""Collectors: one POSIX sh script per target (collect.sh + the declared items), and pure parsers
that turn each delimited section of its output into typed records."""
