// Command storectl provisions and manages WooCommerce stores on Kubernetes.
package main

import (
	"os"

	"github.com/storectl/storectl/pkg/cli"
)

func main() {
	os.Exit(cli.Main(cli.Build()))
}
