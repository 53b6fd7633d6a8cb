//go:build tools

// Package tools pins the etcd server command hack/ builds.
package tools

import _ "go.etcd.io/etcd/server/v3"
