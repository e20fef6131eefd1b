fn main() {
    std::process::exit(fleetsim::cli::main());
}
