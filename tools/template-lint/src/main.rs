//! `q2c-template-lint <template>`: prints one line per violation and exits 1 when there are
//! any, 2 when the template cannot be read, 0 when it passes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use q2c_template_lint::{Template, lint};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: q2c-template-lint <template.yaml>");
        return ExitCode::from(2);
    };
    match run(PathBuf::from(path)) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Lints the template at `path`, printing each violation; returns how many there were.
fn run(path: PathBuf) -> anyhow::Result<usize> {
    let template = Template::load(&path).with_context(|| format!("loading {}", path.display()))?;
    let violations = lint(&template);
    for violation in &violations {
        println!("{violation}");
    }
    eprintln!("{}: {} violation(s)", path.display(), violations.len());
    Ok(violations.len())
}
