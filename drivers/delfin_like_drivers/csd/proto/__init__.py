"""The gRPC contract of the CSD agent: instorage.proto and the modules the build generates from it."""
