//! The committed `include/herald.h` is exactly what the pinned cbindgen generates, and
//! its version macros match Cargo.toml.
//!
//! After changing the API, regenerate the header with
//! `HERALD_BLESS=1 cargo test -p herald-c --test header`.

use std::path::PathBuf;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let dir = crate_dir();
    let config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_matches_cbindgen_output() {
    let path = crate_dir().join("include/herald.h");
    let generated = generate();
    if std::env::var_os("HERALD_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/herald.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()))
            + 1;
        panic!(
            "c-api/include/herald.h differs from cbindgen's output (first at line {line}); \
             regenerate it with HERALD_BLESS=1 cargo test -p herald-c --test header"
        );
    }
}

#[test]
fn version_macros_match_cargo_toml() {
    let header =
        std::fs::read_to_string(crate_dir().join("include/herald.h")).expect("read herald.h");
    let version = env!("CARGO_PKG_VERSION");
    let mut parts = version.split('.');
    let (major, minor, patch) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    for (name, value) in [
        ("HERALD_VERSION_MAJOR", major.to_owned()),
        ("HERALD_VERSION_MINOR", minor.to_owned()),
        ("HERALD_VERSION_PATCH", patch.to_owned()),
        ("HERALD_VERSION", format!("\"{version}\"")),
    ] {
        let line = format!("#define {name} {value}\n");
        assert!(
            header.contains(&line),
            "herald.h lacks `{}`: update after_includes in cbindgen.toml",
            line.trim()
        );
    }
}
