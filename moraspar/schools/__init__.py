"""Schools: programmes and needs of school staff."""
