//! `sh`: the xv6 shell.
//!
//! Reads a line after the prompt `$ ` (written to fd 2) and runs it. The grammar is xv6's:
//!
//! ```text
//! line  := pipe ('&')* (';' line)?
//! pipe  := exec ('|' pipe)?
//! exec  := '(' line ')' redir*  |  redir* (word redir*)*
//! redir := '<' word | '>' word | '>>' word
//! ```
//!
//! `<` opens read-only as fd 0, `>` opens write-only with create and truncate as fd 1, `>>`
//! write-only with create (no append mode exists in xv6: it overwrites from the start, like
//! MIT's sh). A command takes at most 9 words. `cd DIR` is built in, because the directory
//! must change in the shell itself, and is only recognised as a line starting with `cd `.
//!
//! As in MIT's sh, each line is parsed and run in a forked child, which the shell waits for;
//! a syntax error therefore ends only that child. Inside the child, `;` runs its left side in
//! a grandchild and waits; `|` forks both sides and waits for both; `&` forks and does not
//! wait (the orphan is later reaped by init).
#![no_std]
#![no_main]

use user::*;

entry!(main);

/// Most words in one command, plus one (xv6's MAXARGS).
const MAXARGS: usize = 10;

/// A parsed command line.
enum Cmd {
    Exec(Vec<Vec<u8>>),
    Redir {
        cmd: Box<Cmd>,
        file: Vec<u8>,
        mode: i32,
        fd: i32,
    },
    Pipe(Box<Cmd>, Box<Cmd>),
    List(Box<Cmd>, Box<Cmd>),
    Back(Box<Cmd>),
}

fn main(_args: Args) {
    // Make sure fds 0, 1 and 2 are open (on the console) before anything else.
    while let Ok(fd) = open("console", O_RDWR) {
        if fd >= 3 {
            let _ = close(fd);
            break;
        }
    }
    let mut buf = [0u8; 100];
    loop {
        let _ = write(2, b"$ ");
        let n = gets(0, &mut buf[..99]);
        if n == 0 {
            break; // end of input
        }
        let line = &buf[..n];
        if line.starts_with(b"cd ") {
            let dir = line[3..].strip_suffix(b"\n").unwrap_or(&line[3..]);
            if chdir(dir).is_err() {
                eprintln!("cannot cd {}", str_prefix(dir));
            }
            continue;
        }
        if fork1() == 0 {
            let cmd = parse(line);
            run(&cmd);
        }
        let _ = wait(None);
    }
    exit(0);
}

/// Prints `msg` and ends this (child) shell, as MIT's sh `panic` does.
fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    exit(1)
}

fn fork1() -> i32 {
    fork().unwrap_or_else(|_| fail("fork"))
}

/// Runs `cmd` in this process and exits; never returns.
fn run(cmd: &Cmd) -> ! {
    match cmd {
        Cmd::Exec(argv) => {
            if argv.is_empty() {
                exit(1);
            }
            exec(&argv[0], argv);
            eprintln!("exec {} failed", str_prefix(&argv[0]));
        }
        Cmd::Redir {
            cmd,
            file,
            mode,
            fd,
        } => {
            let _ = close(*fd);
            // The lowest free fd is the one just closed.
            if open(file, *mode).is_err() {
                eprintln!("open {} failed", str_prefix(file));
                exit(1);
            }
            run(cmd);
        }
        Cmd::List(left, right) => {
            if fork1() == 0 {
                run(left);
            }
            let _ = wait(None);
            run(right);
        }
        Cmd::Pipe(left, right) => {
            let [r, w] = pipe().unwrap_or_else(|_| fail("pipe"));
            if fork1() == 0 {
                let _ = close(1);
                let _ = dup(w);
                let _ = close(r);
                let _ = close(w);
                run(left);
            }
            if fork1() == 0 {
                let _ = close(0);
                let _ = dup(r);
                let _ = close(r);
                let _ = close(w);
                run(right);
            }
            let _ = close(r);
            let _ = close(w);
            let _ = wait(None);
            let _ = wait(None);
        }
        Cmd::Back(cmd) => {
            if fork1() == 0 {
                run(cmd);
            }
        }
    }
    exit(0)
}

const WHITESPACE: &[u8] = b" \t\r\n\x0b";
const SYMBOLS: &[u8] = b"<|>&;()";

/// A token: its kind (`a` for a word, `+` for `>>`, the symbol itself otherwise, 0 at the
/// end) and, for a word, its text.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.pos < self.s.len() && WHITESPACE.contains(&self.s[self.pos]) {
            self.pos += 1;
        }
    }

    /// Whether the next token starts with one of `toks`.
    fn peek(&mut self, toks: &[u8]) -> bool {
        self.skip_space();
        self.pos < self.s.len() && toks.contains(&self.s[self.pos])
    }

    /// Consumes the next token; returns its kind and its text.
    fn token(&mut self) -> (u8, &[u8]) {
        self.skip_space();
        let start = self.pos;
        let kind = match self.s.get(self.pos) {
            None | Some(0) => 0,
            Some(&c @ (b'|' | b'(' | b')' | b';' | b'&' | b'<')) => {
                self.pos += 1;
                c
            }
            Some(b'>') => {
                self.pos += 1;
                if self.s.get(self.pos) == Some(&b'>') {
                    self.pos += 1;
                    b'+'
                } else {
                    b'>'
                }
            }
            Some(_) => {
                while self.pos < self.s.len()
                    && !WHITESPACE.contains(&self.s[self.pos])
                    && !SYMBOLS.contains(&self.s[self.pos])
                {
                    self.pos += 1;
                }
                b'a'
            }
        };
        let end = self.pos;
        self.skip_space();
        (kind, &self.s[start..end])
    }

    fn line(&mut self) -> Cmd {
        let mut cmd = self.pipe();
        while self.peek(b"&") {
            self.token();
            cmd = Cmd::Back(Box::new(cmd));
        }
        if self.peek(b";") {
            self.token();
            cmd = Cmd::List(Box::new(cmd), Box::new(self.line()));
        }
        cmd
    }

    fn pipe(&mut self) -> Cmd {
        let cmd = self.exec();
        if self.peek(b"|") {
            self.token();
            return Cmd::Pipe(Box::new(cmd), Box::new(self.pipe()));
        }
        cmd
    }

    /// Reads redirections, appending them to `redirs` in order.
    fn redirs(&mut self, redirs: &mut Vec<(Vec<u8>, i32, i32)>) {
        while self.peek(b"<>") {
            let (tok, _) = self.token();
            let (kind, file) = self.token();
            if kind != b'a' {
                fail("missing file for redirection");
            }
            let file = file.to_vec();
            match tok {
                b'<' => redirs.push((file, O_RDONLY, 0)),
                b'>' => redirs.push((file, O_WRONLY | O_CREATE | O_TRUNC, 1)),
                _ => redirs.push((file, O_WRONLY | O_CREATE, 1)), // '+': >>
            }
        }
    }

    /// Wraps `cmd` in its redirections; the last one read is outermost, so it is applied
    /// first (as in MIT's sh).
    fn wrap(mut cmd: Cmd, redirs: Vec<(Vec<u8>, i32, i32)>) -> Cmd {
        for (file, mode, fd) in redirs {
            cmd = Cmd::Redir {
                cmd: Box::new(cmd),
                file,
                mode,
                fd,
            };
        }
        cmd
    }

    fn block(&mut self) -> Cmd {
        self.token(); // '('
        let cmd = self.line();
        if !self.peek(b")") {
            fail("syntax - missing )");
        }
        self.token();
        let mut redirs = Vec::new();
        self.redirs(&mut redirs);
        Self::wrap(cmd, redirs)
    }

    fn exec(&mut self) -> Cmd {
        if self.peek(b"(") {
            return self.block();
        }
        let mut argv = Vec::new();
        let mut redirs = Vec::new();
        self.redirs(&mut redirs);
        while !self.peek(b"|)&;") {
            let (kind, word) = self.token();
            if kind == 0 {
                break;
            }
            if kind != b'a' {
                fail("syntax");
            }
            argv.push(word.to_vec());
            if argv.len() >= MAXARGS {
                fail("too many args");
            }
            self.redirs(&mut redirs);
        }
        Self::wrap(Cmd::Exec(argv), redirs)
    }
}

/// Parses a whole line; a syntax error ends this (child) process.
fn parse(line: &[u8]) -> Cmd {
    let mut p = Parser { s: line, pos: 0 };
    let cmd = p.line();
    p.skip_space();
    if p.pos != line.len() {
        eprintln!("leftovers: {}", str_prefix(&line[p.pos..]));
        fail("syntax");
    }
    cmd
}
