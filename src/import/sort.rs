//! External sort of (key, value) byte records in bounded memory: records are buffered up to
//! half a byte budget, each full buffer is sorted and written to a run file on another thread
//! while the next one fills (the two halves are the budget), and the runs are merged k-way with
//! a heap. Keys compare as bytes; equal keys never occur (callers end keys with a
//! unique sequence number), so the order is total and deterministic.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

type Item = (Vec<u8>, Vec<u8>);
/// The heap of the merge: (key, run, value), smallest key first.
type Heap = BinaryHeap<Reverse<(Vec<u8>, usize, Vec<u8>)>>;

/// Collects records; [`Sorter::finish`] gives them back in key order.
pub struct Sorter {
    dir: PathBuf,
    name: String,
    buf: Vec<Item>,
    bytes: usize,
    budget: usize,
    runs: Vec<PathBuf>,
    /// The last run, being sorted and written on its own thread (one at a time).
    writing: Option<JoinHandle<io::Result<()>>>,
}

/// Per record overhead counted against the budget (two vectors and the slice in the buffer).
const OVERHEAD: usize = 64;

impl Sorter {
    pub fn new(dir: PathBuf, name: &str, budget: usize) -> Sorter {
        Sorter {
            dir,
            name: name.to_string(),
            buf: Vec::new(),
            bytes: 0,
            budget: budget.max(1 << 10),
            runs: Vec::new(),
            writing: None,
        }
    }

    pub fn push(&mut self, key: Vec<u8>, val: Vec<u8>) -> io::Result<()> {
        self.bytes += key.len() + val.len() + OVERHEAD;
        self.buf.push((key, val));
        if self.bytes >= self.budget / 2 {
            self.spill()?;
        }
        Ok(())
    }

    /// How many run files were written so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Hands the buffer to a thread that sorts it and writes it as a run, once the previous
    /// run is written.
    fn spill(&mut self) -> io::Result<()> {
        self.written()?;
        let path = self
            .dir
            .join(format!("{}-{:05}.run", self.name, self.runs.len()));
        let n = self.buf.len();
        let buf = std::mem::replace(&mut self.buf, Vec::with_capacity(n));
        self.bytes = 0;
        let to = path.clone();
        let h = std::thread::Builder::new()
            .name("import-sort".into())
            .spawn(move || write_run(&to, buf))?;
        self.writing = Some(h);
        self.runs.push(path);
        Ok(())
    }

    /// Waits for the run being written.
    fn written(&mut self) -> io::Result<()> {
        match self.writing.take() {
            None => Ok(()),
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("writing a sorted run failed"))),
        }
    }

    /// Every record in key order.
    pub fn finish(mut self) -> io::Result<Merged> {
        if self.runs.is_empty() {
            self.buf.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            return Ok(Merged::Memory(std::mem::take(&mut self.buf).into_iter()));
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        self.written()?;
        let mut readers = Vec::with_capacity(self.runs.len());
        let mut heap = BinaryHeap::new();
        for (i, path) in self.runs.iter().enumerate() {
            let mut r = BufReader::with_capacity(1 << 16, File::open(path)?);
            if let Some((k, v)) = read_item(&mut r)? {
                heap.push(Reverse((k, i, v)));
            }
            readers.push(r);
        }
        Ok(Merged::Runs {
            readers,
            heap,
            paths: std::mem::take(&mut self.runs),
        })
    }
}

impl Drop for Sorter {
    fn drop(&mut self) {
        // A sorter given up (an import that failed) still waits for its last run.
        let _ = self.written();
    }
}

/// Sorts `buf` by key and writes it to `path`.
fn write_run(path: &Path, mut buf: Vec<Item>) -> io::Result<()> {
    buf.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    for (k, v) in &buf {
        write_item(&mut w, k, v)?;
    }
    w.flush()
}

/// The sorted records.
pub enum Merged {
    Memory(std::vec::IntoIter<Item>),
    Runs {
        readers: Vec<BufReader<File>>,
        heap: Heap,
        paths: Vec<PathBuf>,
    },
}

impl Merged {
    /// The next record, `None` at the end.
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        match self {
            Merged::Memory(it) => Ok(it.next()),
            Merged::Runs { readers, heap, .. } => {
                let Some(Reverse((k, i, v))) = heap.pop() else {
                    return Ok(None);
                };
                if let Some(r) = readers.get_mut(i) {
                    if let Some((nk, nv)) = read_item(r)? {
                        heap.push(Reverse((nk, i, nv)));
                    }
                }
                Ok(Some((k, v)))
            }
        }
    }
}

impl Drop for Merged {
    fn drop(&mut self) {
        if let Merged::Runs { paths, .. } = self {
            for p in paths.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

fn write_item(w: &mut impl Write, k: &[u8], v: &[u8]) -> io::Result<()> {
    w.write_all(&len32(k.len())?.to_le_bytes())?;
    w.write_all(k)?;
    w.write_all(&len32(v.len())?.to_le_bytes())?;
    w.write_all(v)
}

fn len32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "record too large"))
}

fn read_item(r: &mut impl Read) -> io::Result<Option<Item>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut k = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut k)?;
    r.read_exact(&mut len)?;
    let mut v = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut v)?;
    Ok(Some((k, v)))
}

/// Encodes string fields as length-prefixed bytes.
pub fn encode_fields(fields: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 4).sum());
    for f in fields {
        let n = u32::try_from(f.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// The fields [`encode_fields`] wrote (invalid data gives fewer fields, never a panic).
pub fn decode_fields(mut b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while let Some((len, rest)) = b.split_first_chunk::<4>() {
        let n = u32::from_le_bytes(*len) as usize;
        let Some((f, rest)) = rest.split_at_checked(n) else {
            break;
        };
        out.push(String::from_utf8_lossy(f).into_owned());
        b = rest;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_in_key_order() {
        let dir = std::env::temp_dir().join(format!("le-sort-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = Sorter::new(dir.clone(), "t", 1);
        let mut keys: Vec<u32> = (0..5000).map(|i| (i * 7919) % 5003).collect();
        for k in &keys {
            s.push(k.to_be_bytes().to_vec(), encode_fields(&[&k.to_string()]))
                .unwrap();
        }
        assert!(s.runs() > 1);
        let mut m = s.finish().unwrap();
        keys.sort();
        for k in keys {
            let (key, val) = m.next_item().unwrap().unwrap();
            assert_eq!(key, k.to_be_bytes());
            assert_eq!(decode_fields(&val), vec![k.to_string()]);
        }
        assert!(m.next_item().unwrap().is_none());
        drop(m);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A run that cannot be written (its folder is gone) is an error of the next push or of
    /// `finish`, never a panic or a lost record.
    #[test]
    fn a_run_that_cannot_be_written_is_an_error() {
        let dir = std::env::temp_dir().join(format!("le-sort-missing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut s = Sorter::new(dir, "t", 1);
        let mut failed = false;
        for k in 0u32..200 {
            if s.push(k.to_be_bytes().to_vec(), vec![0; 16]).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed || s.finish().is_err());
    }
}
