//! Compiles `heketidoctor/v1/inventory.proto` with protox (pure Rust, no system `protoc`) into a
//! FileDescriptorSet and generates the prost messages and tonic stubs from it.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "heketidoctor/v1/inventory.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["."])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(fds)?;
    Ok(())
}
