package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// takeTerminal makes Ctrl-C in a terminal reach runlocal alone, so that `make run-local` ends
// with exit status 0 instead of `make: *** Error` or 130.
//
// Why: Ctrl-C makes the terminal send SIGINT to its whole foreground process group, which holds
// make, the shell of the recipe and runlocal. runlocal can stop its children and exit 0, but
// GNU make got the SIGINT too: it waits for its child and then kills itself with SIGINT (status
// 130, and `Error 1` when the child failed). So runlocal moves into a process group of its own
// and makes that group the terminal's foreground group (tcsetpgrp); make's group is then in the
// background, gets no SIGINT, and exits with runlocal's status. The returned function gives the
// terminal back to the original group; call it once everything is stopped, just before exiting.
//
// Nothing is done without a controlling terminal, when runlocal is not in the foreground group
// (started with &), or when it already leads its process group (an interactive shell with job
// control started it directly: Ctrl-C already reaches only its group).
func takeTerminal() (restore func()) {
	noop := func() {}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return noop // no controlling terminal
	}
	fd := int(tty.Fd())
	orig, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || orig != unix.Getpgrp() || unix.Getpgrp() == unix.Getpid() {
		_ = tty.Close()
		return noop
	}
	// A process outside the foreground group that changes the foreground group gets SIGTTOU
	// (which stops it) unless it ignores the signal. Ignored only around the two calls: an
	// ignored signal stays ignored in the children started in between.
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	if err := unix.Setpgid(0, 0); err != nil {
		say("could not start a process group (Ctrl-C will end make with an error): %v", err)
		_ = tty.Close()
		return noop
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, unix.Getpgrp()); err != nil {
		// Back into the original group, which still has the terminal.
		_ = unix.Setpgid(0, orig)
		say("could not take the terminal (Ctrl-C will end make with an error): %v", err)
		_ = tty.Close()
		return noop
	}
	// Ctrl-Z would now stop runlocal alone: make would go on waiting for it while holding the
	// shell, and the terminal would belong to a stopped group that nobody resumes. So it is
	// caught and explained instead.
	tstp := make(chan os.Signal, 1)
	signal.Notify(tstp, syscall.SIGTSTP)
	go func() {
		for range tstp {
			say("Ctrl-Z does not suspend run-local; Ctrl-C stops it")
		}
	}()
	return func() {
		signal.Stop(tstp)
		signal.Ignore(syscall.SIGTTOU)
		defer signal.Reset(syscall.SIGTTOU)
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, orig); err != nil {
			fmt.Fprintf(os.Stderr, "run-local: giving the terminal back to process group %d: %v\n", orig, err)
		}
		_ = tty.Close()
	}
}
