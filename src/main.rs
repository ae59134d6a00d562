/// mimalloc: compiling a workflow is allocation-heavy (YAML nodes, expression trees); glibc malloc was a third of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pilot::cli::main()
}
