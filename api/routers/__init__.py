"""One package per documented API; each exports ``router`` (an APIRouter) that api.app mounts in its sub-app."""
