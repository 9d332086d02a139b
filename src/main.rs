fn main() -> std::process::ExitCode {
    sysgen::cli::main()
}
