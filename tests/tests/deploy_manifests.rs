//! The deployment files say what they must: parse every manifest (no validator is reachable
//! offline, so the fields that matter are checked here) and the systemd units.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn docs(rel: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(deploy().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{rel}: not YAML: {e}"))
}

fn one(rel: &str, kind: &str) -> Yaml {
    docs(rel)
        .into_iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("{rel}: no {kind}"))
}

fn s(y: &Yaml) -> &str {
    y.as_str().unwrap_or("")
}

/// `selector` (a map of labels) is contained in `labels`.
fn selects(selector: &Yaml, labels: &Yaml) -> bool {
    let (Some(sel), Some(lab)) = (selector.as_hash(), labels.as_hash()) else { return false };
    !sel.is_empty() && sel.iter().all(|(k, v)| lab.get(k) == Some(v))
}

#[test]
fn every_manifest_parses_and_kustomization_lists_existing_files() {
    let base = deploy().join("kubernetes/base");
    for entry in std::fs::read_dir(&base).unwrap() {
        let p = entry.unwrap().path();
        let rel = p.strip_prefix(deploy()).unwrap().to_string_lossy().into_owned();
        let d = docs(&rel);
        assert!(!d.is_empty(), "{rel}: empty");
    }
    let k = &docs("kubernetes/base/kustomization.yaml")[0];
    for r in k["resources"].as_vec().unwrap() {
        assert!(base.join(s(r)).exists(), "kustomization lists missing {}", s(r));
    }
    let o = &docs("kubernetes/overlays/openshift/kustomization.yaml")[0];
    assert_eq!(s(&o["resources"][0]), "../../base");
}

#[test]
fn agent_daemonset_is_read_only_least_privilege_and_probed() {
    let ds = one("kubernetes/base/agent-daemonset.yaml", "DaemonSet");
    let spec = &ds["spec"];
    let pod = &spec["template"]["spec"];
    assert!(selects(&spec["selector"]["matchLabels"], &spec["template"]["metadata"]["labels"]));
    assert_eq!(s(&pod["nodeSelector"]["storagenode"]), "glusterfs", "same nodes as the glusterfs DaemonSet");
    assert_eq!(pod["hostNetwork"].as_bool(), Some(true));
    assert_eq!(pod["automountServiceAccountToken"].as_bool(), Some(false));
    let c = &pod["containers"][0];
    let args: Vec<&str> = c["args"].as_vec().unwrap().iter().map(s).collect();
    assert_eq!(args[0], "serve");
    assert!(args.iter().any(|a| a.starts_with("--client-ca=")), "mutual TLS");
    assert!(!args.iter().any(|a| a.starts_with("--insecure")));
    // Probes: gRPC health on the plaintext health port (kubelet cannot present a client cert).
    let health_port = args.iter().find_map(|a| a.strip_prefix("--health-listen=")).unwrap();
    let port: i64 = health_port.rsplit(':').next().unwrap().parse().unwrap();
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(c[probe]["grpc"]["port"].as_i64(), Some(port), "{probe}");
    }
    let sc = &c["securityContext"];
    assert_eq!(sc["privileged"].as_bool(), Some(false));
    assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(s(&sc["capabilities"]["drop"][0]), "ALL");
    // Every mount is read-only, and every hostPath volume is mounted.
    let mounts = c["volumeMounts"].as_vec().unwrap();
    assert!(mounts.iter().all(|m| m["readOnly"].as_bool() == Some(true)), "a writable mount");
    for v in pod["volumes"].as_vec().unwrap().iter().filter(|v| !v["hostPath"].is_badvalue()) {
        assert!(mounts.iter().any(|m| m["name"] == v["name"]), "hostPath {} not mounted", s(&v["name"]));
    }
    // The gRPC port is what the Service targets.
    assert_eq!(s(&c["ports"][0]["name"]), "grpc");
}

#[test]
fn headless_service_selects_the_agents() {
    let svc = one("kubernetes/base/agent-service.yaml", "Service");
    let ds = one("kubernetes/base/agent-daemonset.yaml", "DaemonSet");
    assert_eq!(s(&svc["spec"]["clusterIP"]), "None", "headless: one address per agent");
    assert!(selects(&svc["spec"]["selector"], &ds["spec"]["template"]["metadata"]["labels"]));
    assert_eq!(s(&svc["spec"]["ports"][0]["targetPort"]), "grpc");
}

#[test]
fn report_cronjob_is_safe_to_schedule() {
    let cj = one("kubernetes/base/report-cronjob.yaml", "CronJob");
    let spec = &cj["spec"];
    assert_eq!(s(&spec["concurrencyPolicy"]), "Forbid");
    assert!(spec["startingDeadlineSeconds"].as_i64().is_some());
    assert!(spec["successfulJobsHistoryLimit"].as_i64().is_some_and(|n| n <= 5));
    assert!(spec["failedJobsHistoryLimit"].as_i64().is_some_and(|n| n <= 5));
    let job = &spec["jobTemplate"]["spec"];
    assert!(job["activeDeadlineSeconds"].as_i64().is_some());
    let pod = &job["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert!(c["volumeMounts"].as_vec().unwrap().iter().all(|m| m["readOnly"].as_bool() == Some(true)));
    let args: Vec<&str> = c["args"].as_vec().unwrap().iter().map(s).collect();
    // It reads the backup secret, never the live DB, and reaches the agents through the Service.
    assert!(args.iter().any(|a| a.starts_with("--db=") && a.ends_with("heketi.db.gz")));
    let svc = one("kubernetes/base/agent-service.yaml", "Service");
    let dns = args.iter().find_map(|a| a.strip_prefix("--agents-dns=")).unwrap();
    assert!(dns.starts_with(&format!("{}.", s(&svc["metadata"]["name"]))), "{dns}");
    assert!(dns.ends_with(&format!(":{}", svc["spec"]["ports"][0]["port"].as_i64().unwrap())));
}

#[test]
fn rbac_grants_one_secret_read_only_and_the_network_policy_matches() {
    let role = one("kubernetes/base/rbac.yaml", "Role");
    let rules = role["rules"].as_vec().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["verbs"].as_vec().unwrap().iter().map(s).collect::<Vec<_>>(), ["get"]);
    assert_eq!(s(&rules[0]["resourceNames"][0]), "heketi-db-backup");
    let np = one("kubernetes/base/networkpolicy.yaml", "NetworkPolicy");
    let ds = one("kubernetes/base/agent-daemonset.yaml", "DaemonSet");
    let cj = one("kubernetes/base/report-cronjob.yaml", "CronJob");
    assert!(selects(
        &np["spec"]["podSelector"]["matchLabels"],
        &ds["spec"]["template"]["metadata"]["labels"]
    ));
    let from = &np["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"];
    assert!(selects(from, &cj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]));
}

#[test]
fn systemd_units_are_hardened_and_complete() {
    let read = |n: &str| std::fs::read_to_string(deploy().join("systemd").join(n)).unwrap();
    let agent = read("heketi-doctor-agent.service");
    for line in ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes"] {
        assert!(agent.lines().any(|l| l == line), "agent unit lacks {line}");
    }
    assert!(agent.contains("--client-ca") && !agent.contains("--insecure"));
    let report = read("heketi-doctor-report.service");
    assert!(report.contains("SuccessExitStatus=1"), "drift (exit 1) is not a unit failure");
    assert!(read("heketi-doctor-report.timer").contains("OnCalendar="));
}

#[test]
fn cert_manager_overlay_issues_the_secrets_the_base_mounts() {
    let certs = docs("kubernetes/overlays/cert-manager/certificates.yaml");
    let secret_of = |name: &str| {
        certs
            .iter()
            .find(|d| d["kind"].as_str() == Some("Certificate") && s(&d["metadata"]["name"]) == name)
            .map(|d| {
                (
                    s(&d["spec"]["secretName"]).to_owned(),
                    d["spec"]["usages"].as_vec().unwrap().iter().map(|u| s(u).to_owned()).collect::<Vec<_>>(),
                )
            })
            .unwrap()
    };
    let (agent_secret, agent_usages) = secret_of("heketi-doctor-agent");
    let (ctl_secret, ctl_usages) = secret_of("heketi-doctor-controller");
    assert!(
        agent_usages.contains(&"server auth".to_owned()) && ctl_usages.contains(&"client auth".to_owned())
    );
    let ds = one("kubernetes/base/agent-daemonset.yaml", "DaemonSet");
    let cj = one("kubernetes/base/report-cronjob.yaml", "CronJob");
    let secrets = |pod: &Yaml| -> Vec<String> {
        pod["volumes"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|v| v["secret"]["secretName"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(secrets(&ds["spec"]["template"]["spec"]).contains(&agent_secret));
    assert!(secrets(&cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]).contains(&ctl_secret));
}
