//! `urr-edge build`: runs every component's `[component.X.build]` command, like `spin build`.
//!
//! Components target `wasm32-wasip2`; `.cargo/config.toml` is found from the working directory,
//! not from `--manifest-path`, so a cargo build command without an explicit `--target` gets one.

use crate::manifest::Manifest;
use anyhow::{Context, Result, bail};
use std::process::Command;

pub const COMPONENT_TARGET: &str = "wasm32-wasip2";

/// The command as it will run: cargo builds always name the target explicitly.
pub fn effective_command(command: &str) -> String {
    let is_cargo_build = command.split_whitespace().take(2).eq(["cargo", "build"]);
    if is_cargo_build && !command.contains("--target") {
        format!("{command} --target {COMPONENT_TARGET}")
    } else {
        command.to_string()
    }
}

/// Runs the build commands, sharing one run for components with the same command and folder.
pub fn build_all(manifest: &Manifest) -> Result<()> {
    let mut done: Vec<(String, std::path::PathBuf)> = Vec::new();
    for component in &manifest.components {
        let Some(build) = &component.build else {
            continue;
        };
        let command = effective_command(&build.command);
        let key = (command.clone(), build.workdir.clone());
        if done.contains(&key) {
            continue;
        }
        eprintln!(
            "building component `{}`: {command} (in {})",
            component.id,
            build.workdir.display()
        );
        let status = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(&build.workdir)
            .status()
            .with_context(|| format!("running the build of component `{}`", component.id))?;
        if !status.success() {
            bail!(
                "the build of component `{}` failed ({status})",
                component.id
            );
        }
        done.push(key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::effective_command;

    #[test]
    fn cargo_builds_always_name_the_component_target() {
        assert_eq!(
            effective_command("cargo build --release"),
            "cargo build --release --target wasm32-wasip2"
        );
        assert_eq!(
            effective_command("cargo build --release --target wasm32-wasip2"),
            "cargo build --release --target wasm32-wasip2"
        );
        assert_eq!(effective_command("make wasm"), "make wasm");
    }
}
