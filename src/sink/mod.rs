//! Stage 7, sink (output): where JSON lines go.
//!
//! Today: standard output or a file (appended to, created if missing). The pipeline's sink
//! thread writes whole lines through a large buffer and counts what it wrote, what failed
//! and what it had to drop after a failure; nothing is lost without a counter.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use thiserror::Error;

use crate::config::Output;

/// Errors opening an output.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SinkError {
    #[error("cannot open output {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Opens the configured output for writing.
pub fn open(output: &Output) -> Result<Box<dyn Write + Send>, SinkError> {
    match output {
        Output::Stdout => Ok(Box::new(std::io::stdout())),
        Output::File(path) => {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| SinkError::Open {
                    path: path.clone(),
                    source,
                })?;
            Ok(Box::new(f))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_output_appends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.json");
        for line in [&b"a\n"[..], b"b\n"] {
            let mut w = open(&Output::File(p.clone())).unwrap();
            w.write_all(line).unwrap();
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"a\nb\n");
    }

    #[test]
    fn unopenable_output_names_the_path() {
        let e = open(&Output::File(PathBuf::from("/nonexistent/dir/x.json")))
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent/dir/x.json"));
    }
}
