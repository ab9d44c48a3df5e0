// The nine districts and banners (GET /api/v1/districts), loaded once.
import { ref } from "vue";
import { api } from "./api.js";

export const districts = ref([]);
let loading = null;

export function loadDistricts() {
  loading ||= api("/api/v1/districts").then((body) => { districts.value = body.districts; }).catch(() => { loading = null; });
  return loading;
}

export function districtByCode(code) {
  return districts.value.find((d) => d.code === code || d.slug === code) || null;
}
