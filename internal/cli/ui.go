package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/ui"
)

func uiCommand() *cli.Command {
	return &cli.Command{
		Name:  "ui",
		Usage: "serve a web page over the state directory's runs (graph, timeline, failovers) until interrupted",
		Description: "The page lists the runs, as batchrun runs does, and shows each run's stage graph, its attempts\n" +
			"on a timeline and its failovers with their restart sets. It reads the state directory without\n" +
			"a lock, beside running jobs, and needs nothing from the network.",
		Flags: []cli.Flag{
			stateDirFlag(),
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:0", Usage: "serve on `HOST:PORT` (port 0 picks one; the URL is printed)"},
		},
		Action: uiAction,
	}
}

func uiAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	dir, err := stateDir(c.String("state-dir"))
	if err != nil {
		return err
	}
	return ui.Serve(c.Context, ui.Options{
		StateDir: dir,
		Listen:   c.String("listen"),
		Ready:    func(url string) { fmt.Fprintf(c.App.Writer, "batchrun ui serving at %s\n", url) },
	})
}
