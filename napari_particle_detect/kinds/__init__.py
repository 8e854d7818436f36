"""What each kind of object is: its encoding (targets to maps for training, maps to a table for
decoding), its table's columns and checks, and its matching metric; the registry of kinds."""
