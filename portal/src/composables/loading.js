// The loading and error state of a page section that reads from the API. `track(work)` runs the async `work`
// with `loading` set meanwhile and any failure kept in `error` (shown by StateBox, whose retry calls the loader).
import { ref } from "vue";

export function useLoading(initially = true) {
  const loading = ref(initially);
  const error = ref(null);
  async function track(work) {
    loading.value = true;
    error.value = null;
    try {
      return await work();
    } catch (caught) {
      error.value = caught;
      return undefined;
    } finally {
      loading.value = false;
    }
  }
  return { loading, error, track };
}
