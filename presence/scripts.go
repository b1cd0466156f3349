package presence

import (
	_ "embed" // the Lua scripts
	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/sweep.lua
	sweepLua string
	//go:embed lua/add.lua
	addLua string
	//go:embed lua/remove.lua
	removeLua string
	//go:embed lua/refresh.lua
	refreshLua string
	//go:embed lua/members.lua
	membersLua string
)

// The scripts run with EVALSHA and fall back to EVAL when Redis does not
// know them yet (go-redis's Script.Run), so a restarted or new Redis needs
// no preparation. Each script touches only the three keys of one name.
var (
	addScript     = redis.NewScript(sweepLua + addLua)
	removeScript  = redis.NewScript(sweepLua + removeLua)
	refreshScript = redis.NewScript(sweepLua + refreshLua)
	membersScript = redis.NewScript(sweepLua + membersLua)
)
