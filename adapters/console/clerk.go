package console

// clerkRoutes registers the clerk pages (see routes).
func (c *Console) clerkRoutes() {}

// clerkMessages are the clerk pages' texts, merged into messages.
var clerkMessages = map[string][2]string{}
