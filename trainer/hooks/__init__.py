"""Every use of another library's private names, one small module per library (see each)."""
