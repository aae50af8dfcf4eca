package main

import (
	"os"
	"strconv"
	"time"
)

// The helpers below give every flag a default from the environment, so the operator can be
// configured from a Deployment's env or a ConfigMap as well as from arguments.

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return fallback
}

func envParsed[T any](name string, fallback T, parse func(string) (T, error)) T {
	if v, ok := os.LookupEnv(name); ok {
		if parsed, err := parse(v); err == nil {
			return parsed
		}
	}
	return fallback
}

func envBool(name string, fallback bool) bool { return envParsed(name, fallback, strconv.ParseBool) }

func envInt(name string, fallback int) int { return envParsed(name, fallback, strconv.Atoi) }

func envDuration(name string, fallback time.Duration) time.Duration {
	return envParsed(name, fallback, time.ParseDuration)
}

func envFloat(name string, fallback float64) float64 {
	return envParsed(name, fallback, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}
