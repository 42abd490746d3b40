// Environment drivers live here.
