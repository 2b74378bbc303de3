//! `heketi-doctor certs`: a private CA and the two certificates mutual TLS needs — the agents'
//! (server) and the controller's (client) — for sites without cert-manager.

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::cli::CertsArgs;
use crate::output::write_atomic_with;
use crate::Exit;

const DEFAULT_AGENT_NAMES: [&str; 4] = [
    "heketi-doctor-agent.glusterfs.svc",
    "heketi-doctor-agent.glusterfs.svc.cluster.local",
    "localhost",
    "127.0.0.1",
];

fn validity(params: &mut CertificateParams, days: u32) {
    let today = crate::clock::now().div_euclid(86_400);
    let date = |day: i64| {
        let (y, m, d) = crate::clock::civil_from_days(day);
        rcgen::date_time_ymd(y as i32, m as u8, d as u8)
    };
    params.not_before = date(today - 1);
    params.not_after = date(today + i64::from(days));
}

pub fn run(args: CertsArgs) -> Result<Exit> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create", args.out.display()))?;
    let write = |name: &str, body: &str| {
        write_atomic_with(&args.out.join(name), args.force, |w| w.write_all(body.as_bytes()))
    };

    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(DnType::CommonName, "heketi-doctor CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut ca, args.days);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);

    let leaf = |cn: &str, names: Vec<String>, usage: ExtendedKeyUsagePurpose| -> Result<(String, String)> {
        let mut p = CertificateParams::new(names)?;
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![usage];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        validity(&mut p, args.days);
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let names: Vec<String> = if args.agent_names.is_empty() {
        DEFAULT_AGENT_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.agent_names.clone()
    };
    let (agent_crt, agent_key) =
        leaf("heketi-doctor-agent", names.clone(), ExtendedKeyUsagePurpose::ServerAuth)?;
    let (ctl_crt, ctl_key) = leaf(
        "heketi-doctor-controller",
        vec!["heketi-doctor-controller".into()],
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;

    write("ca.crt", &ca_cert.pem())?;
    write("ca.key", &ca_key.serialize_pem())?;
    write("agent.crt", &agent_crt)?;
    write("agent.key", &agent_key)?;
    write("controller.crt", &ctl_crt)?;
    write("controller.key", &ctl_key)?;
    eprintln!(
        "wrote {}: ca.crt/ca.key (keep ca.key offline), agent.crt/agent.key for {}, controller.crt/controller.key; valid {} days",
        args.out.display(),
        names.join(", "),
        args.days
    );
    Ok(Exit::Ok)
}
