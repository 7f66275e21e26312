package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"github.com/idverify/idverify/schema"
)

func migrateDSN(ctx context.Context, dsn string, logger *slog.Logger) error {
	db, err := sqlx.Open("mysql", dsn)
	if err != nil {
		return fmt.Errorf("IDVERIFY_MYSQL_DSN: %w", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to mysql: %w", err)
	}
	if err := schema.Apply(ctx, db, logger); err != nil {
		return err
	}
	logger.Info("schema up to date")
	return nil
}
