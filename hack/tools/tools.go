//go:build tools

// Package tools pins the chart tools hack/build-tools.sh builds, so `go mod tidy` keeps them in go.sum.
package tools

import (
	_ "github.com/yannh/kubeconform/cmd/kubeconform"
	_ "helm.sh/helm/v3/cmd/helm"
)
