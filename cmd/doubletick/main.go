// Command doubletick runs DoubleTick's WhatsApp group API from a shell: the
// group, participant, tag, message and webhook-subscription endpoints, a
// resumable bulk import of groups from a CSV file, a webhook receiver that
// shows what arrives and why a delivery was refused, and a check of a saved
// delivery against a secret.
//
//	doubletick help
//	doubletick groups get vip-support-42
//	doubletick groups import customers.csv --rate 1
//	doubletick listen --addr 127.0.0.1:8080 --auth bearer
//
// Secrets come from the environment or from files, never from flags, which
// end up in shell history and process lists: DOUBLETICK_API_KEY (or
// DOUBLETICK_API_KEY_FILE) and DOUBLETICK_WEBHOOK_SECRET (or
// DOUBLETICK_WEBHOOK_SECRET_FILE). Every command's help names the variables
// it reads.
//
// It exits 0 when the command succeeded, 1 when the API or the network
// failed it, 2 when it was used wrongly (a flag, an argument, a missing
// variable, a bad input file, an empty one), and 130 when Ctrl-C or SIGTERM
// stopped it. It prints no colour, so NO_COLOR holds; the import's progress
// bar is drawn only when standard error is a terminal and TERM is not
// "dumb". "doubletick completion SHELL" prints a completion script.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		// The first signal stops a command gracefully: an import sends
		// nothing more and records the requests in flight.
		fmt.Fprintln(os.Stderr, "doubletick: stopping (again to quit at once)")
		cancel()
		<-signals
		os.Exit(130)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
