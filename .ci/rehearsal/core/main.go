// A program outside the repository that uses the SDK from its released
// module: a group created through the client against the SDK's fake.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

func main() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	res, _, err := srv.Client().Groups.Create(context.Background(), &doubletick.CreateGroupRequest{
		WABANumber: "911111111111",
		Subject:    "Release rehearsal",
		GroupID:    "rehearsal_1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("core", doubletick.Version(), "created", res.GroupID)
}
