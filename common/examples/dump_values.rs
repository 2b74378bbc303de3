//! Write every value of a bolt file's heketi buckets to `OUTDIR/<bucket>-<key>` — seeds for the
//! gob fuzz target (`fuzz/seed.sh`). Usage: `dump_values DB OUTDIR`.

use heketi_doctor_common::bolt::BoltFile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: dump_values DB OUTDIR".into());
    };
    let bytes = std::fs::read(&db)?;
    let file = BoltFile::parse(&bytes)?;
    std::fs::create_dir_all(&out)?;
    for bucket in file.read_all()? {
        let name = String::from_utf8_lossy(bucket.name);
        for kv in bucket.entries {
            let key: String =
                kv.key.iter().map(|b| if b.is_ascii_alphanumeric() { *b as char } else { '_' }).collect();
            std::fs::write(std::path::Path::new(&out).join(format!("{name}-{key}")), kv.value)?;
        }
    }
    Ok(())
}
