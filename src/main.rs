//! The `dopt` binary: everything lives in the library; this only sets the exit code.

// mimalloc, as ruff and others use: parsing and the passes allocate many small
// strings, and with it the parser runs about 10–25% faster than with glibc's
// allocator (benchmarks/README.md). The benchmarks use it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(dopt::cli::main())
}
