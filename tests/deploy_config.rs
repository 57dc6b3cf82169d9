//! The configuration files shipped in `deploy/` load and validate with the worker's own
//! config code, so a renamed or mistyped key there fails `cargo test`, not a rollout.

use std::path::Path;

use wire_enricher::config::Config;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn deploy_worker_toml_is_a_valid_config() {
    let text = std::fs::read_to_string(repo().join("deploy/config/worker.toml")).expect("read");
    let config =
        Config::from_toml_str(&text).unwrap_or_else(|e| panic!("deploy/config/worker.toml: {e}"));
    // Containers must listen beyond loopback for probes and scraping.
    assert!(
        config.http.listen.starts_with("0.0.0.0:"),
        "http.listen = {}",
        config.http.listen
    );
}

#[test]
fn kubernetes_configmap_embeds_a_valid_config() {
    let text =
        std::fs::read_to_string(repo().join("deploy/k8s/base/configmap.yaml")).expect("read");
    // The ConfigMap holds the TOML as a literal block under `config.toml: |`.
    let (_, block) = text
        .split_once("config.toml: |\n")
        .expect("configmap has a config.toml literal block");
    let toml: String = block
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("configmap config.toml: {e}"));
}

#[test]
fn default_toml_is_a_valid_config() {
    let text = std::fs::read_to_string(repo().join("config/default.toml")).expect("read");
    Config::from_toml_str(&text).unwrap_or_else(|e| panic!("config/default.toml: {e}"));
}

#[test]
fn a_misspelt_key_in_a_deploy_style_file_is_rejected() {
    let text = std::fs::read_to_string(repo().join("deploy/config/worker.toml")).expect("read");
    let broken = text.replacen("[input]", "[input]\nack_wiat = \"30s\"", 1);
    let error = Config::from_toml_str(&broken).expect_err("unknown key must fail");
    assert!(error.to_string().contains("ack_wiat"), "{error}");
}
