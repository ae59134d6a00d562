//! Runs a command on a pseudo-terminal of a given size and returns everything it wrote there, escape codes
//! included, as a terminal would receive it.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

pub fn run(mut command: Command, columns: u16, rows: u16) -> String {
    let (master, slave) = open(columns, rows);
    command
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = command.spawn().unwrap();
    drop(command); // Closes our copies of the terminal's slave side, so reading ends when the child exits.
    let mut master = std::fs::File::from(master);
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match master.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => bytes.extend_from_slice(&buffer[..read]),
            // Linux answers EIO once the slave side is closed by every process.
            Err(_) => break,
        }
    }
    child.wait().unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn open(columns: u16, rows: u16) -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize { ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: openpty writes two new file descriptors, which we take ownership of.
    let result = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
    assert_eq!(result, 0, "openpty failed: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}
