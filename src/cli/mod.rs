//! The `dopt` command line.
