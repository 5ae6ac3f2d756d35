//! Which dopt process made an image or container, so that a later run can remove
//! what a killed run left behind.
//!
//! A run removes its images and containers when it ends, and on Ctrl-C; a process
//! killed outright (SIGKILL, a CI job's timeout, the machine's OOM killer) cannot.
//! So every image a run builds and every container it starts carries its run id,
//! this machine's host name and boot id, and its process id; each new run first
//! removes the images and containers of this machine and boot whose process is
//! gone. (Leftovers from before a reboot stay: they cannot be told from another
//! machine's.) Runs with
//! `keep_images` are not labelled with their process: their images are meant to
//! outlive it.

use std::collections::HashMap;

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListImagesOptionsBuilder, RemoveImageOptions,
};

use super::engine::Engine;

/// The run id (`dopt-…`, also the tags' repository).
pub(crate) const RUN_LABEL: &str = "org.dopt.run";
/// The machine and boot that ran dopt (`<host name>/<boot id>`).
pub(crate) const HOST_LABEL: &str = "org.dopt.run.host";
/// The id of the dopt process.
pub(crate) const PID_LABEL: &str = "org.dopt.run.pid";

/// The labels for a run's images and containers.
pub(crate) fn labels(run_id: &str, keep_images: bool) -> HashMap<String, String> {
    let mut labels = HashMap::from([(RUN_LABEL.to_string(), run_id.to_string())]);
    if let (false, Some(host)) = (keep_images, this_host()) {
        labels.insert(HOST_LABEL.into(), host);
        labels.insert(PID_LABEL.into(), std::process::id().to_string());
    }
    labels
}

/// Whether a label is one of ours (left out of the reported image labels).
pub(crate) fn is_owner_label(key: &str) -> bool {
    key == RUN_LABEL || key.starts_with("org.dopt.run.")
}

/// This machine and boot: `<host name>/<boot id>` (host names repeat across
/// machines that may share an engine; a boot id does not, and a process id means
/// something only within one boot). None where there is no `/proc` to tell live
/// processes either (then nothing is labelled for, or removed by, a sweep).
fn this_host() -> Option<String> {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty())
    };
    Some(format!(
        "{}/{}",
        read("/proc/sys/kernel/hostname")?,
        read("/proc/sys/kernel/random/boot_id")?
    ))
}

/// Whether the labels name a dopt process of this host that no longer runs.
fn made_by_a_dead_run(labels: Option<&HashMap<String, String>>, host: &str) -> bool {
    let Some(labels) = labels else {
        return false;
    };
    let Some(pid) = labels.get(PID_LABEL).and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    labels.get(HOST_LABEL).map(String::as_str) == Some(host)
        && pid != std::process::id()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the containers and images of this host's dopt runs whose process is
/// gone; returns a note for the report when there were any.
pub(crate) async fn remove_what_killed_runs_left(engine: &Engine) -> Option<String> {
    let host = this_host()?;
    let filters = HashMap::from([("label".to_string(), vec![format!("{HOST_LABEL}={host}")])]);
    let mut runs = std::collections::BTreeSet::new();
    let containers = engine
        .docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .unwrap_or_default();
    for container in containers {
        if made_by_a_dead_run(container.labels.as_ref(), &host) {
            if let Some(id) = &container.id {
                super::verify::remove_container(engine, id).await;
                runs.extend(container.labels.and_then(|mut l| l.remove(RUN_LABEL)));
            }
        }
    }
    let images = engine
        .docker
        .list_images(Some(
            ListImagesOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .unwrap_or_default();
    for image in images {
        if !made_by_a_dead_run(Some(&image.labels), &host) {
            continue;
        }
        let ours: Vec<&String> = image
            .repo_tags
            .iter()
            .filter(|tag| tag.starts_with("dopt-"))
            .collect();
        // Only our own tags; an image someone tagged since then stays.
        for tag in &ours {
            super::remove_tag(engine, tag).await;
        }
        if image.repo_tags.is_empty() {
            let _ = engine
                .docker
                .remove_image(&image.id, None::<RemoveImageOptions>, None)
                .await;
        }
        runs.extend(image.labels.get(RUN_LABEL).cloned());
    }
    (!runs.is_empty()).then(|| {
        format!(
            "removed the images and containers left by earlier dopt runs that were killed \
             before they could clean up: {}",
            runs.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dead_runs_of_this_host_are_stale() {
        let labels = |host: &str, pid: u32| {
            HashMap::from([
                (RUN_LABEL.to_string(), "dopt-1".to_string()),
                (HOST_LABEL.to_string(), host.to_string()),
                (PID_LABEL.to_string(), pid.to_string()),
            ])
        };
        // Far above any pid_max: never a live process.
        let dead = 99_999_999;
        assert!(made_by_a_dead_run(Some(&labels("here", dead)), "here"));
        assert!(!made_by_a_dead_run(
            Some(&labels("elsewhere", dead)),
            "here"
        ));
        assert!(!made_by_a_dead_run(
            Some(&labels("here", std::process::id())),
            "here"
        ));
        assert!(!made_by_a_dead_run(Some(&labels("here", 1)), "here"));
        let kept = HashMap::from([(RUN_LABEL.to_string(), "dopt-2".to_string())]);
        assert!(!made_by_a_dead_run(Some(&kept), "here"));
        assert!(!made_by_a_dead_run(None, "here"));
    }

    #[test]
    fn kept_runs_carry_no_process() {
        let kept = labels("dopt-x", true);
        assert_eq!(kept.len(), 1);
        assert!(kept.keys().all(|k| is_owner_label(k)));
        if this_host().is_some() {
            assert_eq!(labels("dopt-x", false).len(), 3);
        }
        assert!(!is_owner_label("org.dopt.standin"));
    }
}
