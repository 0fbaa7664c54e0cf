"""Generated protobuf code (scripts/gen_protos.sh). Do not edit."""
