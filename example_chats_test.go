package doubletick_test

import (
	"context"
	"fmt"
	"log"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// chatServer starts the fake API with one group, "acme-support", which a
// customer has joined.
func chatServer() (*doubleticktest.Server, *doubletick.Client) {
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	c := srv.Client()
	_, _, err := c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{
		WABANumber: "911111111111", Subject: "Acme support", GroupID: "acme-support"})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Join("acme-support", "+919876543210", "Asha"); err != nil {
		log.Fatal(err)
	}
	return srv, c
}

// Route a customer's group to their account manager.
func ExampleChatsService_Assign() {
	srv, c := chatServer()
	defer srv.Close()

	_, _, err := c.Chats.Assign(context.Background(), &doubletick.AssignChatRequest{
		ChatRef:                 doubletick.ChatRef{GroupID: "acme-support"},
		AssignedUserPhoneNumber: "919000000002", // from Team.List
	})
	if err != nil {
		log.Fatal(err)
	}
	page, _, err := c.Chats.List(context.Background(), &doubletick.ListChatsOptions{AssignedUserPhone: "919000000002"})
	if err != nil {
		log.Fatal(err)
	}
	for _, ch := range page.Chats {
		fmt.Println(ch.ChatType, ch.Name, ch.AssignedUserName)
	}
	// Output: WA_GROUP Acme support Ravi Agent
}

func ExampleChatsService_RemoveAssignment() {
	srv, c := chatServer()
	defer srv.Close()
	ctx := context.Background()

	group := doubletick.ChatRef{GroupID: "acme-support"}
	if _, _, err := c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: group, AssignedUserPhoneNumber: "919000000002"}); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Chats.RemoveAssignment(ctx, &doubletick.RemoveChatAssignmentRequest{ChatRef: group}); err != nil {
		log.Fatal(err)
	}
	page, _, err := c.Chats.List(ctx, &doubletick.ListChatsOptions{Unassigned: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Chats), "unassigned chats")
	// Output: 2 unassigned chats
}

func ExampleChatsService_List() {
	srv, c := chatServer()
	defer srv.Close()

	page, _, err := c.Chats.List(context.Background(), &doubletick.ListChatsOptions{WABANumbers: []string{"911111111111"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, ch := range page.Chats {
		fmt.Println(ch.ChatType, ch.Name)
	}
	// Output:
	// INDIVIDUAL Asha
	// WA_GROUP Acme support
}

func ExampleChatsService_All() {
	srv, c := chatServer()
	defer srv.Close()

	n := 0
	for ch, err := range c.Chats.All(context.Background(), &doubletick.ListChatsOptions{Limit: 1}) {
		if err != nil {
			log.Fatal(err)
		}
		if ch.ChatType == doubletick.ChatGroup {
			n++
		}
	}
	fmt.Println(n, "group chat")
	// Output: 1 group chat
}

// CRM context on a customer's group chat.
func ExampleNotesService_Create() {
	srv, c := chatServer()
	defer srv.Close()

	n, _, err := c.Notes.Create(context.Background(), &doubletick.CreateNoteRequest{
		NoteChat: doubletick.NoteChat{GroupID: "acme-support"},
		Note:     "Renewal due in March; Asha prefers Hindi.",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Note, "by", n.CreatedBy)
	// Output: Renewal due in March; Asha prefers Hindi. by Asha Owner
}

func ExampleNotesService_List() {
	srv, c := chatServer()
	defer srv.Close()
	ctx := context.Background()

	customer := doubletick.NoteChat{From: "+911111111111", To: "+919876543210"}
	for _, text := range []string{"first call", "sent the quote"} {
		if _, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: customer, Note: text}); err != nil {
			log.Fatal(err)
		}
	}
	page, _, err := c.Notes.List(ctx, &doubletick.ListNotesRequest{NoteChat: customer})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(page.TotalCount, "notes, newest:", page.Notes[0].Note)
	// Output: 2 notes, newest: sent the quote
}

func ExampleNotesService_All() {
	srv, c := chatServer()
	defer srv.Close()
	ctx := context.Background()

	group := doubletick.NoteChat{GroupID: "acme-support"}
	for i := range 3 {
		if _, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: group, Note: fmt.Sprint("note ", i)}); err != nil {
			log.Fatal(err)
		}
	}
	for n, err := range c.Notes.All(ctx, &doubletick.ListNotesRequest{NoteChat: group, Limit: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(n.Note)
	}
	// Output:
	// note 2
	// note 1
	// note 0
}

func ExampleNotesService_Get() {
	srv, c := chatServer()
	defer srv.Close()
	ctx := context.Background()

	created, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{GroupID: "acme-support"}, Note: "VIP"})
	if err != nil {
		log.Fatal(err)
	}
	n, _, err := c.Notes.Get(ctx, created.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Note)
	// Output: VIP
}

func ExampleNotesService_Update() {
	srv, c := chatServer()
	defer srv.Close()
	ctx := context.Background()

	created, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{GroupID: "acme-support"}, Note: "VIP"})
	if err != nil {
		log.Fatal(err)
	}
	n, _, err := c.Notes.Update(ctx, created.ID, &doubletick.UpdateNoteRequest{Note: "VIP since 2024"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Note)
	// Output: VIP since 2024
}

func ExampleNotesService_Delete() {
	srv, c := chatServer()
	defer srv.Close()
	ctx := context.Background()

	created, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{GroupID: "acme-support"}, Note: "VIP"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Notes.Delete(ctx, created.ID); err != nil {
		log.Fatal(err)
	}
	_, _, err = c.Notes.Get(ctx, created.ID)
	fmt.Println(err != nil)
	// Output: true
}
