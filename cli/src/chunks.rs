//! An NDJSON stream cut into chunks of whole lines for `loyalty simulate`.
//!
//! Why not `BufRead::read_until`: it copies every byte a second time (from the reader's buffer
//! into the line's), and a simulation reads gigabytes; here the input is read straight into the
//! chunk's buffer and the lines are found in place. A chunk's buffer keeps its size when it is
//! reused, so refilling it neither zeroes nor faults in memory again.

use std::io::{self, Read};

/// Bytes asked of the input per read.
const READ: usize = 1 << 20;

/// Lines of the input, in one buffer.
pub struct Chunk {
    /// Room for the lines; only `..filled` holds input.
    data: Vec<u8>,
    filled: usize,
    /// (line index in the input, start, end) of each line with a member, end without the line
    /// break: blank lines (only ASCII whitespace) are counted but not listed.
    pub lines: Vec<(u64, usize, usize)>,
    /// Bytes of the input this chunk covers (line breaks and blank lines included).
    pub bytes: u64,
}

impl Chunk {
    pub fn new() -> Chunk {
        Chunk {
            data: Vec::new(),
            filled: 0,
            lines: Vec::new(),
            bytes: 0,
        }
    }

    /// Makes room for `n` more bytes after `filled` (zeroed once, then reused).
    fn make_room(&mut self, n: usize) {
        let need = self.filled + n;
        if self.data.len() < need {
            self.data.resize(need, 0);
        }
    }

    /// The text of line `(_, from, to)`.
    pub fn line(&self, from: usize, to: usize) -> &[u8] {
        self.data.get(from..to).unwrap_or_default()
    }
}

/// Cuts `input` into chunks.
pub struct Chunker<R> {
    input: R,
    /// The next line's index in the input.
    index: u64,
    /// The start of a line read past the last chunk's end.
    carry: Vec<u8>,
    eof: bool,
}

impl<R: Read> Chunker<R> {
    pub fn new(input: R) -> Chunker<R> {
        Chunker {
            input,
            index: 0,
            carry: Vec::new(),
            eof: false,
        }
    }

    /// Refills `chunk` with the next lines, at most `max_lines` of them listed; false when the
    /// input is used up (`chunk` then covers nothing).
    pub fn fill(&mut self, chunk: &mut Chunk, max_lines: usize) -> io::Result<bool> {
        chunk.lines.clear();
        chunk.filled = 0;
        chunk.make_room(self.carry.len());
        if let Some(to) = chunk.data.get_mut(..self.carry.len()) {
            to.copy_from_slice(&self.carry);
        }
        chunk.filled = self.carry.len();
        self.carry.clear();
        // `start`: where the current line starts; `scanned`: how far line breaks were sought.
        let (mut start, mut scanned) = (0, 0);
        while chunk.lines.len() < max_lines {
            let data = chunk.data.get(..chunk.filled).unwrap_or_default();
            match memchr::memchr(b'\n', data.get(scanned..).unwrap_or_default()) {
                Some(p) => {
                    let end = scanned + p;
                    self.line(chunk, start, end);
                    start = end + 1;
                    scanned = start;
                }
                None if self.eof => {
                    if start < chunk.filled {
                        self.line(chunk, start, chunk.filled);
                        start = chunk.filled;
                    }
                    break;
                }
                None => {
                    scanned = chunk.filled;
                    self.read(chunk)?;
                }
            }
        }
        self.carry
            .extend_from_slice(chunk.data.get(start..chunk.filled).unwrap_or_default());
        chunk.filled = start;
        chunk.bytes = start as u64;
        Ok(start > 0)
    }

    /// Reads once into the chunk (retrying an interrupted read); sets `eof` at the end.
    fn read(&mut self, chunk: &mut Chunk) -> io::Result<()> {
        chunk.make_room(READ);
        loop {
            let room = chunk.data.get_mut(chunk.filled..).unwrap_or_default();
            match self.input.read(room) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    chunk.filled += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Lists the line `start..end` (its break excluded) unless it is blank; a trailing `\r`
    /// (CRLF files) is not part of it.
    fn line(&mut self, chunk: &mut Chunk, start: usize, mut end: usize) {
        while end > start && chunk.data.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        let text = chunk.data.get(start..end).unwrap_or_default();
        if !loyalty_engine::simulate::is_blank_line(text) {
            chunk.lines.push((self.index, start, end));
        }
        self.index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read (lines cut anywhere).
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            let (head, rest) = self.data.split_at(n);
            buf.get_mut(..n).unwrap().copy_from_slice(head);
            self.data = rest;
            Ok(n)
        }
    }

    fn all_lines(text: &[u8], step: usize, max_lines: usize) -> (Vec<(u64, String)>, u64) {
        let mut chunker = Chunker::new(Trickle { data: text, step });
        let mut chunk = Chunk::new();
        let (mut out, mut bytes) = (Vec::new(), 0);
        while chunker.fill(&mut chunk, max_lines).unwrap() {
            assert!(chunk.lines.len() <= max_lines);
            for &(i, from, to) in &chunk.lines {
                out.push((i, String::from_utf8(chunk.line(from, to).to_vec()).unwrap()));
            }
            bytes += chunk.bytes;
        }
        (out, bytes)
    }

    #[test]
    fn every_line_once_with_its_index_however_the_input_is_cut() {
        let text = b"{\"a\":1}\r\n\n  \t\n{\"b\":2}\n{\"c\":3}\r\r\n\r\n{\"d\":4}";
        let want: Vec<(u64, String)> = vec![
            (0, "{\"a\":1}".into()),
            (3, "{\"b\":2}".into()),
            (4, "{\"c\":3}".into()),
            (6, "{\"d\":4}".into()),
        ];
        for step in [1, 2, 3, 5, 8, 64, 1 << 20] {
            for max_lines in [1, 2, 3, 100] {
                let (lines, bytes) = all_lines(text, step, max_lines);
                assert_eq!(lines, want, "step {step}, {max_lines} lines a chunk");
                assert_eq!(bytes, text.len() as u64);
            }
        }
        assert_eq!(all_lines(b"", 4, 2), (vec![], 0));
        assert_eq!(all_lines(b"\n\n", 4, 2), (vec![], 2));
        assert_eq!(all_lines(b"x\n", 1, 1), (vec![(0, "x".into())], 2));
    }
}
