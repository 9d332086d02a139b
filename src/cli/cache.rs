//! `sysgen cache list | clean`: the sysroot store, for people.

use anyhow::Result;

use crate::cli::args::CacheCommand;

/// Run one `sysgen cache` subcommand.
pub fn run(command: CacheCommand) -> Result<()> {
    let store = crate::store::entries::Store::open()?;
    match command {
        CacheCommand::List => {
            let list = store.list()?;
            println!("store: {}", store.dir.display());
            let mut total = 0;
            for l in &list {
                total += l.size;
                let (targets, crates) = match &l.summary {
                    Some(s) => {
                        let mut kind = if s.check { " (check)" } else { "" }.to_string();
                        if let Some(d) = &s.driver {
                            let tool = d.split(' ').next().unwrap_or(d);
                            kind.push_str(&format!(" (for {tool})"));
                        }
                        (
                            format!("{}{kind}", s.targets.join(",")),
                            format!("{} [{}, panic={}]", s.crates.join(","), s.profile, s.panic),
                        )
                    }
                    None => ("?".into(), "?".into()),
                };
                println!(
                    "{}  {}  {}  {}  {}  {}",
                    l.id,
                    targets,
                    crates,
                    human_size(l.size),
                    human_age(l.last_use),
                    l.origin.as_deref().unwrap_or("built here")
                );
            }
            let builds = store.build_dirs_size();
            let stale: u64 = store.stale_staging().iter().map(|(_, s)| s).sum();
            println!(
                "{} sysroots, {}; build directories {}; left by interrupted downloads {}",
                list.len(),
                human_size(total),
                human_size(builds),
                human_size(stale)
            );
            Ok(())
        }
        CacheCommand::Clean { older_than } => {
            let r = store.clean(older_than)?;
            for id in &r.in_use {
                eprintln!("sysgen: kept {id}: in use");
            }
            eprintln!(
                "sysgen: removed {} entries, freed {}",
                r.removed.len(),
                human_size(r.freed)
            );
            Ok(())
        }
    }
}

fn human_size(n: u64) -> String {
    let mut v = n as f64;
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if v < 1024.0 || unit == "GiB" {
            return if unit == "B" {
                format!("{n} B")
            } else {
                format!("{v:.1} {unit}")
            };
        }
        v /= 1024.0;
    }
    unreachable!()
}

fn human_age(t: Option<std::time::SystemTime>) -> String {
    let Some(age) = t.and_then(|t| std::time::SystemTime::now().duration_since(t).ok()) else {
        return "never".into();
    };
    let s = age.as_secs();
    match s {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", s / 60),
        3600..86400 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86400),
    }
}
