package doubletick_test

import (
	"context"
	"fmt"
	"log"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// Before a template send to a group: is the template approved in its
// language on the group's number?
func ExampleTemplatesService_List() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()

	list, _, err := c.Templates.List(context.Background(), &doubletick.ListTemplatesOptions{
		WABANumbers: []string{"911111111111"}, Language: "en",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range list {
		fmt.Println(t.Name, t.Language, t.Status)
	}
	// Output:
	// welcome en APPROVED
	// order_update en PENDING
	// promo_offer en REJECTED
}

func ExampleTemplatesService_Create() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	_, err := c.Templates.Create(ctx, &doubletick.TemplateDraft{
		Name: "group_reminder", Language: "en", Category: doubletick.TemplateUtility,
		Components: &doubletick.TemplateDefinition{
			Body:   &doubletick.TemplateTextDefinition{Text: "Hi {{name}}, your call is at {{time}}.", Example: map[string]string{"name": "Asha", "time": "5 pm"}},
			Footer: &doubletick.TemplateFooterDefinition{Text: "Acme support"},
		},
		WABANumbers: []string{"+911111111111"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// No ID comes back: the template is listed, pending Meta's review.
	list, _, err := c.Templates.List(ctx, &doubletick.ListTemplatesOptions{Name: "group_reminder"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(list[0].Name, list[0].Status)
	// Output: group_reminder PENDING
}

// Fix a rejected template: it goes back to review.
func ExampleTemplatesService_Update() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	rejected, _, err := c.Templates.List(ctx, &doubletick.ListTemplatesOptions{Status: doubletick.TemplateRejected})
	if err != nil {
		log.Fatal(err)
	}
	t := rejected[0]
	fmt.Println(t.Name, t.Status)
	_, err = c.Templates.Update(ctx, string(t.ID), &doubletick.TemplateDraft{
		Name: t.Name, Language: t.Language, Category: doubletick.TemplateMarketing,
		Components: &doubletick.TemplateDefinition{Body: &doubletick.TemplateTextDefinition{Text: "Our new range is in store."}},
	})
	if err != nil {
		log.Fatal(err)
	}
	again, _, err := c.Templates.List(ctx, &doubletick.ListTemplatesOptions{Name: t.Name})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again[0].Name, again[0].Status)
	// Output:
	// promo_offer REJECTED
	// promo_offer PENDING
}

func ExampleTemplatesService_Delete() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	_, err := c.Templates.Delete(ctx, &doubletick.DeleteTemplateRequest{Name: "promo_offer", WABANumber: "911111111111"})
	if err != nil {
		log.Fatal(err)
	}
	list, _, err := c.Templates.List(ctx, &doubletick.ListTemplatesOptions{Status: "ALL"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(list), "templates left")
	// Output: 2 templates left
}
