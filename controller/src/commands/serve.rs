//! `heketi-doctor serve`: `report` every `--interval`, and over HTTP: `/metrics` (Prometheus
//! text), `/healthz` (200 when the last run succeeded, 503 with the error otherwise),
//! `/report` (latest Markdown) and `/report.json`.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::cli::ServeArgs;
use crate::Exit;

#[derive(Default)]
struct Status {
    runs: u64,
    last_error: Option<String>,
}

type Shared = Arc<(std::path::PathBuf, Mutex<Status>)>;

pub fn run(args: ServeArgs) -> Result<Exit> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build()?;
    rt.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<Exit> {
    let shared: Shared = Arc::new((args.report.out_dir.clone(), Mutex::new(Status::default())));
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
    let addr = listener.local_addr()?;
    eprintln!("heketi-doctor serve: listening on {addr}, a report every {} s", args.interval.as_secs());
    tracing::info!(%addr, interval_secs = args.interval.as_secs(), "serving");
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/report", get(report_md))
        .route("/report.json", get(report_json))
        .with_state(shared.clone());

    let report_args = args.report.clone();
    let interval = args.interval;
    let worker = shared.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let a = report_args.clone();
            // report does blocking I/O and runs its own collection runtime.
            let r = tokio::task::spawn_blocking(move || super::report::run_ref(&a)).await;
            let mut st = worker.1.lock().unwrap_or_else(|p| p.into_inner());
            st.runs += 1;
            st.last_error = match r {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(e) => Some(format!("report task failed: {e}")),
            };
            if let Some(e) = &st.last_error {
                tracing::warn!(error = %e, "report failed");
            }
        }
    });
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
    };
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.context("HTTP server")?;
    Ok(Exit::Ok)
}

fn file(shared: &Shared, name: &str) -> Option<String> {
    std::fs::read_to_string(shared.0.join(name)).ok()
}

async fn metrics(State(s): State<Shared>) -> impl IntoResponse {
    match file(&s, "heketi_doctor.prom") {
        Some(m) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], m).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no report yet\n").into_response(),
    }
}

async fn healthz(State(s): State<Shared>) -> impl IntoResponse {
    let st = s.1.lock().unwrap_or_else(|p| p.into_inner());
    match (&st.last_error, st.runs) {
        (_, 0) => (StatusCode::SERVICE_UNAVAILABLE, "starting: no report yet\n".to_owned()),
        (Some(e), _) => (StatusCode::SERVICE_UNAVAILABLE, format!("last report failed: {e}\n")),
        (None, n) => (StatusCode::OK, format!("ok: {n} reports\n")),
    }
}

async fn report_md(State(s): State<Shared>) -> impl IntoResponse {
    match file(&s, "latest.md") {
        Some(m) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], m).into_response()
        }
        None => (StatusCode::SERVICE_UNAVAILABLE, "no report yet\n").into_response(),
    }
}

async fn report_json(State(s): State<Shared>) -> impl IntoResponse {
    match file(&s, "latest.json") {
        Some(m) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], m).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no report yet\n").into_response(),
    }
}
