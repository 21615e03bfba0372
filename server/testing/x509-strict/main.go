// A strict X.509 parser for the tests: Go's crypto/x509 refuses what RFC 5280 and X.680 forbid
// (a PrintableString with `_`, say), where OpenSSL and Mosquitto are lenient. Debian bookworm's
// python3-cryptography (38) accepts such a certificate; Go's standard library, from Debian's
// golang-go, does not. Prints one line per PEM file: its path, a tab, and "ok" or the error.
// Usage: go run main.go FILE...
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func parse(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return fmt.Errorf("no PEM block")
	}
	switch block.Type {
	case "X509 CRL":
		_, err = x509.ParseRevocationList(block.Bytes)
	case "CERTIFICATE":
		_, err = x509.ParseCertificate(block.Bytes)
	default:
		err = fmt.Errorf("unexpected PEM type %q", block.Type)
	}
	return err
}

func main() {
	for _, file := range os.Args[1:] {
		if err := parse(file); err != nil {
			fmt.Printf("%s\t%v\n", file, err)
		} else {
			fmt.Printf("%s\tok\n", file)
		}
	}
}
