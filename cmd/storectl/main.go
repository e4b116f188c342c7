// Command storectl provisions and manages WooCommerce stores on Kubernetes.
package main

import (
	"os"

	"github.com/storectl/storectl/internal/startup"
	"github.com/storectl/storectl/pkg/cli"
)

func main() {
	startup.Done()
	os.Exit(cli.Main(cli.Build()))
}
